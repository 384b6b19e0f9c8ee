== million: /usr/bin/python3 /work/main/perf/scenarios/storm_dpdk.py --endpoints 200000 --registrars 5 --out /work/main/perf/results/million.json
