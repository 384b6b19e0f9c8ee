== storm_shared: /usr/bin/python3 /work/main/perf/scenarios/storm.py --endpoints 100000 --registrars 6 --rate 20000 --workers 2 --shared-credentials --out /work/main/perf/results/storm_shared
