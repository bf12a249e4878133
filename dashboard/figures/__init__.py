"""Figure builders: pure functions from engine data to plotly Figures, one module per page,
on the shared layout, colours and image tiling of :mod:`.base` and :mod:`.images`."""
