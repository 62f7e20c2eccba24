"""The Flower plumbing of synth's federated apps (GAN-sharing and anomaly detection).

wire.py and validation.py are what crosses the link and the checks on it; run_config.py the
apps' run config; rounds.py and aggregate.py what every server's rounds do; simulate.py Flower's
one-machine engine; keys.py, deploy.py and commands.py start a real cluster with TLS and node
authentication and submit an app to it.
"""
