"""Reference-architecture models for the four benchmarks.

``tinygen.zoo.builders`` rebuilds the committed, untrained int8 models in
``models/`` from Keras (needs the optional TensorFlow dependency, imported
lazily); ``tinygen.zoo.fetch`` downloads the official trained models;
``tinygen.zoo.stats`` counts parameters and MACs of any ``.tflite`` without
TensorFlow.
"""
