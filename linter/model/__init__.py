"""The model view: build the real Keras model in a subprocess and read it as plain data.

``capture`` runs inside the user's interpreter (it imports TensorFlow);
everything else here runs in klint's own process and never does.
"""
