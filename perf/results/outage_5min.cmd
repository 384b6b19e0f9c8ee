== outage_5min: /usr/bin/python3 /work/main/perf/scenarios/outage.py --endpoints 5000 --registrars 6 --down-for 300 --out /work/main/perf/results/outage_5min
