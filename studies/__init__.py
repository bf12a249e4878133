"""Hyperparameter studies: Optuna searches, Dask does the training.

A layer between the engine and the dashboard: it imports the engine (``mnist_np``), the
dashboard's pure record modules (``settings``, ``runs``, ``store``: no Streamlit), Optuna
and Dask; the dashboard's Experiments page imports it, the engine never does. The one
module a Dask worker imports is :mod:`studies.work` (NumPy and the engine only).
"""
