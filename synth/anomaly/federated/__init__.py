"""Federated autoencoder training on Flower: FedAvg of the weights, exact global scaling and threshold.

messages.py says what crosses the link, node.py what a node does with each stage, server.py the
rounds, apps.py the Flower apps, simulate.py the one-machine run on Flower's simulation engine.
"""
