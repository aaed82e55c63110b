#!/usr/bin/env bash
# Create the places for examples/lab/exporter.yaml on the coordinator (once).
#     LG_COORDINATOR=coordinator:20408 bash examples/lab/places.sh
# A place matches resources as EXPORTER/GROUP/CLASS; 'lab-host' is the
# exporter's --name.
set -euo pipefail
for place in nucleo-1 disco-emu-1; do
    labgrid-client -p "$place" create
    labgrid-client -p "$place" add-match "lab-host/$place/*"
done
labgrid-client places
