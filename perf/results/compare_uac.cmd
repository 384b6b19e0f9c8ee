== compare_uac: /usr/bin/python3 /work/main/perf/scenarios/compare_uac.py --accounts 10000 --rate 5000
