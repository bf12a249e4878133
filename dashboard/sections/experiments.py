"""The Experiments page's sections: the runs table, runs compared, the study form, and
any study of the workspace watched live."""

from __future__ import annotations

import hashlib
import io
import shlex
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import streamlit as st

from mnist_np import MLP, ModelFileError
from studies import background as bg
from studies import driver as dr
from studies import space as sp
from studies.background import AppStudies, Started

from ..figures.experiments import (
    MAX_NAME,
    STUDY_FIGURES,
    accuracy_curves_figure,
    loss_curves_figure,
    runs_csv,
    runs_frame,
    runs_parquet,
    study_figures,
    trials_frame,
)
from ..markdown import plain
from ..page import say
from ..runs import RunLog, RunRecord
from ..session import TrainingSession
from ..settings import Settings

PERCENT_COLUMNS = ("train accuracy", "validation accuracy", "test accuracy")


def _count(n: int, noun: str) -> str:
    """``1 epoch``, ``2 epochs``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _delete(log: RunLog) -> None:
    """The Delete button's callback: before the script runs, so the picker can be
    emptied."""
    for number in st.session_state.get("exp_delete", []):
        log.delete(number)
    st.session_state.exp_delete = []


def runs_table(log: RunLog) -> list[RunRecord]:
    """Every run in one sortable table whose names can be edited, runs to delete, and
    the table as CSV and Parquet. Returns the runs as they are after the edits."""
    runs = list(log)
    st.caption("Every run of this workspace: where it ended, its settings and how fast it "
               "trained. Click a column's header to sort by it; double-click a name to "
               "edit it (the comparison below uses it).")
    frame = runs_frame(runs)
    # The editor keeps its edits by row: keyed by the runs it shows, a deleted or added
    # run gives a fresh editor instead of moving a pending name to another run.
    key = "exp_table_" + hashlib.sha1(repr([r.number for r in runs]).encode()).hexdigest()[:12]
    edited = st.data_editor(
        frame, hide_index=True, key=key, disabled=[c for c in frame if c != "name"],
        column_config={"name": st.column_config.TextColumn(max_chars=MAX_NAME),
                       **{c: st.column_config.NumberColumn(format="percent")
                          for c in PERCENT_COLUMNS}})
    for number, old, new in zip(frame["run"], frame["name"], edited["name"]):
        if (new or "") != old:
            log.rename(int(number), " ".join(str(new or "").split())[:MAX_NAME])
    stamp = f"{datetime.now():%Y%m%d-%H%M}"
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
    row.download_button("Download the table (CSV)", data=runs_csv(runs),
                        file_name=f"mnist_np-runs-{stamp}.csv", mime="text/csv",
                        key="exp_csv", on_click="ignore")
    row.download_button("Download the table (Parquet)", data=runs_parquet(runs),
                        file_name=f"mnist_np-runs-{stamp}.parquet",
                        mime="application/vnd.apache.parquet", key="exp_parquet",
                        on_click="ignore")
    row.multiselect("Runs to delete", [r.number for r in runs], key="exp_delete",
                    format_func=lambda n: f"run {n}", width=260)
    row.button("Delete", key="exp_delete_button", on_click=_delete, args=(log,),
               disabled=not st.session_state.get("exp_delete"))
    return list(log)


def compare_runs(runs: list[RunRecord]) -> None:
    """The chosen runs' accuracy and loss curves overlaid (the latest three at first)."""
    st.subheader("Compare runs")
    numbers = [r.number for r in runs]
    state = st.session_state
    if ("exp_compare" not in state  # first visit, or back from another page
            or state.get("exp_compare_seen") != len(runs)):  # new runs: show the latest
        state.exp_compare_seen = len(runs)
        state.exp_compare = numbers[-3:]
    # labelled by number only: the browser sends choices back by their labels, so a label
    # that changes (a run renamed) would drop the run from the choice
    chosen = st.multiselect("Runs to overlay", numbers, key="exp_compare",
                            format_func=lambda n: f"run {n}")
    picked = [r for r in runs if r.number in chosen]
    if picked:
        left, right = st.columns(2)
        left.plotly_chart(accuracy_curves_figure(picked), key="exp_accuracy")
        right.plotly_chart(loss_curves_figure(picked), key="exp_loss")
        st.caption("Validation accuracy (solid) measures digits the run never trained on; "
                   "when train accuracy (dotted) pulls away from it, the network is "
                   "memorising. Runs that stopped before the end of an epoch have no point "
                   "for it.")


# -- studies ------------------------------------------------------------------------------
EXAMPLE_SPACE = "lr=log:1e-3..1\nhidden=32,64,128"
WATCH_SECONDS = 2.0


@st.cache_resource(show_spinner=False)
def app_studies() -> AppStudies:
    """The server's studies (one running at a time)."""
    return AppStudies()


@st.cache_resource(show_spinner=False, max_entries=4)
def study_storage(path: str) -> dr.JournalStorage | str:
    """Optuna's journal beside the run database, opened once per server, or why not."""
    try:
        return dr.open_storage(path)
    except dr.StudyError as e:
        return str(e)


def study_form(base: Settings, source: str) -> tuple[dr.StudySpec | None, int, list[str]]:
    """The study's search space (as on the command line), sampler, pruner, trials, epochs,
    images and workers: the spec, the workers, and a one-line problem per mistake."""
    state = st.session_state
    state.setdefault("exp_space", EXAMPLE_SPACE)
    space_text = st.text_area(
        "Search space, one hyperparameter a line", key="exp_space", height=100,
        help=f"NAME=VALUES with NAME one of {', '.join(sp.KNOBS)}: a list (64,128,256), a "
             "range (1e-3..1) or a log range (log:1e-4..1).")
    a, b, c = st.columns(3)
    sampler = a.selectbox("Sampler", dr.SAMPLERS, key="exp_sampler",
                          help="tpe learns from the trials so far; random and grid do not")
    pruner = b.selectbox("Pruner", dr.PRUNERS, key="exp_pruner",
                         help="median: stop a trial whose accuracy after an epoch is below "
                              "the median of finished trials at that epoch")
    workers = int(c.number_input("Workers", 1, bg.max_workers(), bg.max_workers(),
                                 key="exp_workers"))
    a, b, c = st.columns(3)
    trials = int(a.number_input("Trials", 1, bg.MAX_TRIALS, 8, key="exp_trials"))
    epochs = int(b.number_input("Epochs per trial", 1, bg.MAX_EPOCHS, 2, key="exp_epochs"))
    images = int(c.select_slider("Training images per trial", bg.TRAIN_SIZES, value=2000,
                                 key="exp_train", format_func=lambda n: f"{n:,}"))
    lines = [line for line in space_text.splitlines() if line.strip()]
    try:
        space = sp.parse_space(lines)
        start = replace(Settings(), epochs=epochs, steps=None, train_limit=images,
                        seed=base.seed)  # as the command line starts
        spec = dr.StudySpec(space, start, trials, epochs, str(sampler), str(pruner),
                            seed=base.seed)
        bg.check_bounds(spec, workers)
    except ValueError as e:
        return None, workers, [str(e)]
    return spec, workers, []


def command_line(spec: dr.StudySpec, workspace: str) -> str:
    """The same study from a terminal into this workspace (there, without the app's
    bounds). No ``--db``: the command line opens the app's database by the same rule
    (``MNIST_NP_DB``, else the cache folder), and a page never shows the server's paths."""
    return " ".join(["python -m mnist_np", *map(shlex.quote, bg.command(
        spec, None, None, workspace))])


def started_status(started: Started | None) -> None:
    """Why the app's own study could not run, if it could not."""
    if started is not None and not started.running and started.error:
        st.error(plain(started.error))


def _load_trial(session: TrainingSession, record: RunRecord, store) -> None:
    """The button's callback: the run's network becomes the session's."""
    raw = store.run_weights(session.runs.workspace, record.number)
    if raw is None:
        say(f"Run {record.number} has no network kept (the database may have dropped it).")
        return
    try:
        net = MLP.load(io.BytesIO(raw))
    except ModelFileError as e:
        say(f"Run {record.number}'s network cannot be read: {e}")
        return
    session.load_network(net, record.settings, f"run {record.number} ({record.origin})")
    say(f"Loaded run {record.number} ({record.origin}): the pages now show its network.")


def watch_study(summary: dr.StudySummary, storage: dr.JournalStorage,
                session: TrainingSession, store) -> bool:
    """One study, as it is now: its state, trials, Optuna's figures and the best trial
    with "Load this network". Returns True while it runs."""
    a = summary.attrs
    running = summary.state == "running"
    trials = dr.trials_of(storage, summary.name)
    ended = [t for t in trials if t.state.is_finished()]
    head = (f"{summary.label} ({'app' if a.get('origin') == 'app' else 'command line'}): "
            f"{len(ended)} of {a.get('trials', '?')} trials ended, {a.get('epochs')} epochs "
            f"each on {_images(a.get('train_limit'))} {a.get('data')} images, "
            f"{a.get('sampler')} sampler, {a.get('pruner')} pruner, on {a.get('where')}.")
    if running:
        st.progress(min(1.0, len(ended) / max(1, int(a.get("trials", 1)))),
                    text=plain(head))
    elif summary.state == "finished":
        st.success(plain(head))
    elif summary.state == "interrupted":
        st.warning(plain(head + " It stopped without finishing (its process went away)."))
    else:
        st.warning(plain(f"{head} {a.get('message', '')}"))
    if not trials:
        return running
    st.dataframe(trials_frame(trials), hide_index=True, key=f"exp_trials_{summary.name}",
                 column_config={"validation accuracy": st.column_config.NumberColumn(
                     format="percent")})
    best = [t for t in trials if t.state.name == "COMPLETE" and t.user_attrs.get("run")]
    if best:
        top = max(best, key=lambda t: t.value or 0.0)
        number = int(top.user_attrs["run"])
        record = next((r for r in session.runs if r.number == number), None)
        values = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                           for k, v in top.params.items())
        text = f"Best so far: trial {top.number}, {top.value:.1%} validation ({values}), " \
               f"run {number}."
        row = st.container(horizontal=True, vertical_alignment="center")
        row.markdown(plain(text))
        if record is not None:
            row.button("Load this network", key="exp_load_best", on_click=_load_trial,
                       args=(session, record, store))
    for key, fig in study_figures(dr.load_study(storage, summary.name)).items():
        if isinstance(fig, str):
            st.caption(f"{STUDY_FIGURES[key]}: {fig}.")
        else:
            st.plotly_chart(fig, key=f"exp_study_{key}")
    return running


def _images(limit) -> str:
    return "all" if limit is None else f"{int(limit):,}"


def start_study(studies: AppStudies, spec: dr.StudySpec, workers: int, db_path: str,
                workspace: str, storage: dr.JournalStorage) -> None:
    """The Start button's callback: the study starts in a process of its own; the list
    below follows it from the journal."""
    try:
        studies.start(spec, workers, db_path, workspace)
    except ValueError as e:
        say(f"The study did not start: {e}")
        return
    # the studies before it: the first one not among them is the new one
    st.session_state.exp_follow = {s.name for s in dr.workspace_studies(storage, workspace)}


def terminal_help(command: str) -> None:
    """The command line for this study, and where it writes."""
    st.caption("The same study from a terminal in this folder, with no bound on trials, "
               "epochs or images. With the app's MNIST_NP_DB (or cache folder) it writes "
               "into this workspace's database, so its trials appear here as they end. "
               "The key after --workspace is this browser's: keep it to yourself, as "
               "anyone with it can add runs to your workspace.")
    st.code(command, language="bash", wrap_lines=True)
    st.caption("On a Dask cluster, add --scheduler tcp://HOST:8786 (the README says how "
               "to start one).")


def watch_studies(storage: dr.JournalStorage, session: TrainingSession, store,
                  busy: Callable[[], bool]) -> None:
    """The workspace's studies, newest first: the chosen one drawn live while it runs
    (every 2 s), then once more in full when it ends (so its runs join the table). After
    Start, the new study is chosen as soon as its process has created it."""
    workspace = session.runs.workspace
    chosen = st.session_state.get("exp_study")
    summaries = dr.workspace_studies(storage, workspace)
    was_running = busy() or any(s.name == chosen and s.state == "running"
                                for s in summaries)

    def draw() -> None:
        summaries = dr.workspace_studies(storage, workspace)
        if not summaries:
            st.info("Starting the study…" if busy() else "No study yet in this workspace.")
            return
        names = [s.name for s in summaries]
        before = st.session_state.get("exp_follow")
        if before is not None and names[0] not in before:
            st.session_state.exp_study = names[0]  # the study just started
            st.session_state.exp_follow = None
        if st.session_state.get("exp_study") not in names:
            st.session_state.exp_study = names[0]
        # labels without the state: the browser keeps an option's first label while the
        # value stays the same ("study 1 (running)" stayed after it had finished)
        labels = {s.name: s.label for s in summaries}
        name = st.selectbox("Study", names, key="exp_study", format_func=lambda n: labels[n])
        summary = next(s for s in summaries if s.name == name)
        if not watch_study(summary, storage, session, store) and was_running and not busy():
            st.rerun()  # it just ended: a full run shows its runs (and Start) again

    st.fragment(draw, run_every=WATCH_SECONDS if was_running else None)()
