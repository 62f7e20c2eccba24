"""The quality report of a synthetic data set: classifier scores (TSTR, TRTR, TRTS), discriminative
and realism scores, spectra and nearest neighbours, as JSON, Markdown and plots."""
