== latency: /usr/bin/python3 /work/main/perf/scenarios/storm.py --endpoints 5000 --registrars 6 --rate 500 --workers 1 --out /work/main/perf/results/latency
