== million: /usr/bin/python3 /work/wt-million/perf/scenarios/storm_dpdk.py --endpoints 200000 --registrars 5 --out /work/wt-million/perf/results/million.json
