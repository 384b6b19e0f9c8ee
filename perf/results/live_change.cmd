== live_change: /usr/bin/python3 perf/scenarios/live_change.py --endpoints 100000 --registrars 6
