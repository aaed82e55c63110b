#!/usr/bin/env bash
# Run an emulated B-L475E-IOT01A for a lab place (the command line tinygen's
# tests use, tinygen.device.labgrid.lab_qemu_command):
#     bash examples/lab/qemu-board.sh SERIAL_PORT GDB_PORT [HOST]
# The board starts halted (-S) and waits for firmware on its gdbstub; the
# console is a TCP server clients may leave and rejoin (wait=off). Guest time
# is virtual (-icount shift=0: one instruction per ns), as for 'tinygen flash'.
# Bind to the lab network's address (HOST) only on a trusted network: the
# gdbstub lets anyone who reaches it write the guest's memory.
set -euo pipefail
serial="${1:?serial port}"; gdb="${2:?gdb port}"; host="${3:-127.0.0.1}"
exec qemu-system-arm -M b-l475e-iot01a -nographic -monitor none \
    -icount shift=0,align=off,sleep=off \
    -serial "tcp:$host:$serial,server=on,wait=off,nodelay=on" \
    -gdb "tcp:$host:$gdb" -S
