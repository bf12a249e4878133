"""Hyperparameter studies: Optuna searches, Dask does the training.

A layer between the engine and the dashboard: it imports the engine (``mnist_np``), the
dashboard's pure record modules (``settings``, ``runs``, ``store``: no Streamlit), Optuna
and Dask; the dashboard's Experiments page imports it, the engine never does. The one
modules a Dask worker imports are :mod:`studies.work` (NumPy and the engine only) and
:mod:`studies.channel` (a running trial's reports to the driver, through the scheduler).
"""
