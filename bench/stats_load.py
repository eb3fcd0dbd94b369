"""Writes to the registry through the JSON API while bench/stats.sh measures the dashboard.

    python3 stats_load.py write BASE TOKEN HOUSEHOLD SECONDS INTERVAL
        PATCHes HOUSEHOLD's wage income every INTERVAL seconds for SECONDS seconds (alternating
        between 0 and 500,000 yuan, so that the figures move: income bucket, at or below the
        threshold), and prints how many writes succeeded.
    python3 stats_load.py probe BASE TOKEN HOUSEHOLD COOKIE PATH COUNT
        COUNT times: one write as above, then at once one GET of PATH with the session COOKIE,
        timed from sending the request to the last byte; prints "p50 p99 max" in milliseconds.
        This is the first read after a write, the one the figure cache has to bring up to date.

Standard library only. Any non-2xx answer stops the script with the status and the body.
"""

import json
import sys
import time
import urllib.request


def request(method, url, headers, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read()


class Writer:
    def __init__(self, base, token, household):
        self.url = f"{base}/api/v1/households/{household}"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.high = False

    def write(self):
        current = json.loads(request("GET", self.url, self.headers))
        self.high = not self.high
        body = {
            "version": current["version"],
            "reason": "benchmark: figures after a write",
            "wage_income": 50_000_000 if self.high else 0,
        }
        request("PATCH", self.url, self.headers, body)


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main(argv):
    mode = argv[1]
    base, token, household = argv[2], argv[3], argv[4]
    writer = Writer(base, token, household)
    if mode == "write":
        seconds, interval = float(argv[5]), float(argv[6])
        end = time.monotonic() + seconds
        writes = 0
        while time.monotonic() < end:
            writer.write()
            writes += 1
            time.sleep(interval)
        print(writes)
    elif mode == "probe":
        cookie, path, count = argv[5], argv[6], int(argv[7])
        headers = {"Cookie": f"zx_session={cookie}"}
        times = []
        for _ in range(count):
            writer.write()
            start = time.perf_counter()
            request("GET", base + path, headers)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{percentile(times, 50):.2f} {percentile(times, 99):.2f} {max(times):.2f}")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    try:
        main(sys.argv)
    except urllib.error.HTTPError as e:
        sys.exit(f"stats_load: {e.code} {e.url}: {e.read()[:500]!r}")
