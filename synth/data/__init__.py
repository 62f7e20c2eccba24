"""Real data loaders: one module per source, all returning ``synth.core.windows.Windows`` in g
(or ``synth.core.rows.Rows`` for the tabular anomaly sources).

recordings.py holds what the window loaders share; loading.py's ``load_windows`` picks the loader
named by a ``DataConfig``; registry.py and fetch.py download the public data sets; commands.py is
``synth data``.
"""
