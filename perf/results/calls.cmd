== calls: /usr/bin/python3 /work/main/perf/scenarios/calls.py
