"""The network of city deployments (城市间联网): identity keys, the signed published document,
trusted peers, signed envelopes with acknowledgements, and the outbox that delivers them.

Peer to peer, no central database (as EUCARIS links Europe's vehicle registries): README,
section "Network".
"""
