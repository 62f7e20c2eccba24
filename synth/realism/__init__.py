"""How real generated windows look: the autoencoder realism filter and the signal metrics that
compare windows with real recordings."""
