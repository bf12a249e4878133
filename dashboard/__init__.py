"""The Streamlit dashboard's shared code: settings, the per-user training session,
figure builders (pure plotly) and the sidebar. Pages in ``pages/`` stay thin."""
