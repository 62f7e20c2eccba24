"""GAN-sharing on Flower: nodes that keep their recordings share generator weights instead.

server.py relays (or averages) models between nodes; client.py and node.py are a node's round;
partition.py, node_data.py give nodes their data; shapes.py and models.py the models that cross
the link; apps.py are the Flower apps; simulate.py runs N nodes on one machine; commands.py is
``synth share``. The Flower plumbing it shares with synth.anomaly is synth.federated.
"""
