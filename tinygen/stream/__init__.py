"""Streaming wakeword (sww01): the DUT's audio front end, its Python reference,
the streaming firmware build and the emulated audio source and pins."""
