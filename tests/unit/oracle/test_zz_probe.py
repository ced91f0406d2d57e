from collections import Counter
from oracle_helpers import DEPTH, PRICE, SIGMA, WAD, advance
from oracle import model

def prof(chain, tx):
    r = chain.provider.make_request("debug_traceTransaction", [tx.txn_hash, {"enableMemory": False, "disableStack": True}])
    logs = r["structLogs"]
    c = Counter(); g = Counter()
    for s in logs:
        c[s["op"]] += 1; g[s["op"]] += s["gasCost"]
    print("steps", len(logs), "exec gas", sum(g.values()))
    print(sorted(g.items(), key=lambda x: -x[1])[:25])
    if len(logs) > 1000:
        i0 = [i for i,s in enumerate(logs) if s["op"]=="SLOAD"]
        seg = logs[i0[2]:i0[3]]
        print("ITER", len(seg), sum(s["gasCost"] for s in seg))
        print(" ".join(s["op"] for s in seg))

def test_probe(oracle, admin, keeper, post, chain, accounts):
    for i in range(10):
        oracle.add_asset(f"0x{i+1:040x}", sender=admin)
    oracle.set_keeper(keeper, True, sender=admin)
    tx = post([(1, PRICE, DEPTH, SIGMA)])
    advance(chain, 3600)
    tx = post([(1, PRICE+2, DEPTH+1, SIGMA)]); print("1 steady down", tx.gas_used); prof(chain, tx)
    ups = [(i+1, PRICE, DEPTH, SIGMA) for i in range(10)]
    advance(chain, 60)
    tx = post(ups)
    advance(chain, 3600)
    ups = [(i+1, PRICE+9, DEPTH, SIGMA) for i in range(10)]
    tx = post(ups); print("10 steady down", tx.gas_used); prof(chain, tx)
