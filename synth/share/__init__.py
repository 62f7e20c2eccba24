"""GAN-sharing on Flower: nodes that keep their recordings share generator weights instead.

server.py relays (or averages) models between nodes; client.py and node.py are a node's round;
partition.py, node_data.py give nodes their data; wire.py and validation.py are what crosses the
link and the checks on it; apps.py are the Flower apps; simulate.py runs N nodes on one machine;
keys.py, deploy.py and deploy_commands.py start a real cluster with TLS and node authentication.
"""
