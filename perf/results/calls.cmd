== calls: /usr/bin/python3 /work/wt-callperf/perf/scenarios/calls.py
