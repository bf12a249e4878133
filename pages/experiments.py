"""Experiments: every run of this workspace in one table, runs compared, and
hyperparameter studies (Optuna searches, Dask trains), started here or from a terminal."""

import streamlit as st

from dashboard.page import get_store, page_header, page_session
from dashboard.sections import experiments as section
from studies import background as bg
from studies import driver as dr

session = page_session()
page_header("Experiments", session)
session.runs.sync()  # a study adds its trials to the database directly

st.subheader("Runs")
runs = list(session.runs)
if not runs:
    st.info("No runs yet. A run is recorded here when it finishes, or when the network is "
            "reset or rebuilt (Reset, or a setting that changes the network); each trial of "
            "a study below is one too.")
else:
    runs = section.runs_table(session.runs)
    if runs:
        section.compare_runs(runs)

st.subheader("Studies")
store, problem = get_store()
storage = section.study_storage(str(dr.storage_path(store.path))) if store else problem
if isinstance(storage, str) or store is None:
    st.warning(f"Studies need the run database: {storage}")
    st.stop()
studies, workspace = section.app_studies(), session.runs.workspace
mine = studies.current(workspace)
busy = mine is not None and mine.running
st.caption(f"Optuna picks each trial's values and stops hopeless trials after an epoch; "
           f"Dask trains the trials in worker processes, one BLAS thread each. Here a "
           f"study is bounded (at most {bg.MAX_TRIALS} trials of {bg.MAX_EPOCHS} epochs on "
           f"{bg.MAX_TRAIN:,} images, {bg.max_workers()} workers, one study at a time on "
           f"this server). Trials start from the default settings (the default preset) "
           f"with the values searched. The workers and your main network share the cores: "
           f"while both train, each goes slower (pause the main network to give the study "
           f"the cores). Every trial becomes a run in the table above.")
spec, workers, problems = section.study_form(session.settings, session.data.source)
for problem in problems:
    st.error(problem)
if busy:
    st.button("Cancel the study", key="exp_cancel", on_click=studies.cancel, args=(workspace,))
else:
    st.button("Start the study", key="exp_run", type="primary",
              disabled=spec is None or studies.busy_elsewhere(workspace),
              on_click=section.start_study,
              args=(studies, spec, workers, str(store.path), workspace, storage))
section.started_status(mine)
if spec is not None:
    with st.expander("Run it from a terminal, unbounded, or on a Dask cluster"):
        section.terminal_help(section.command_line(spec, workspace))
section.watch_studies(storage, session, store,
                      lambda: (c := studies.current(workspace)) is not None and c.running)
