"""``python -m mnist_np``: the engine's command line, and ``study``.

``study`` lives in the ``studies`` package (Optuna and Dask, beside the engine): it is
imported only when asked for, so the engine's own commands stay NumPy-only. The guard
keeps Dask's worker processes, which import the main module, from running a command.
"""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["study"]:
        from studies.cli import main as study

        sys.exit(study(sys.argv[2:]))
    from mnist_np.cli import main

    sys.exit(main())
