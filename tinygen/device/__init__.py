"""Device stage: flash, launch and talk to a device under test."""
