"""What the energy tests share: the emulated board and the benchmark they use."""

BOARD = "disco_l475vg_iot01a"      # emulated as QEMU b-l475e-iot01a
BENCH = "ad01"                     # the fastest inference: short energy windows stay short
