"""What klint knows about Keras, shared by every view: API tables, canonical names, layer
questions, losses and outputs, and the layer graph.
"""
