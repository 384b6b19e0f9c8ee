== outage: /usr/bin/python3 /work/main/perf/scenarios/outage.py --endpoints 5000 --registrars 6 --down-for 60
