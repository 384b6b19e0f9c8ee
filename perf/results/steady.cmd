== steady: /usr/bin/python3 /work/main/perf/scenarios/steady.py --endpoints 10000 --registrars 6 --expires 60 --duration 240
