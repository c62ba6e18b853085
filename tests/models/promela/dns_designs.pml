/* Liveness twin of the DNS specs: specs/dynamodb_dns_race.yaml (the default), and with one
 * -D flag each of the designs beside it:
 *   -DFIX_CAS       specs/dns_fix_cas.yaml               (every write a compare-and-swap)
 *   -DFIX_CLEANUP   specs/dns_fix_cleanup_in_use.yaml    (the clean-up skips plans in use)
 *   -DFIX_LEASE     specs/dns_fix_lease.yaml             (a lease around apply + clean-up)
 *   -DRECHECK       specs/dns_recheck_first_endpoint.yaml (re-check at the first endpoint)
 * Constants: -DENACTORS=1..4 -DPLANS=1..8 -DENDPOINTS=2..3 -DKEEP=..., defaults 3, 4, 2, 2
 * (the specs' own); benchmarks/bench_liveness.py builds it at 3, 5, 3.
 *
 * Built like the twins beside it (see tests/models/README.md), one atomic d_step per dnsrace
 * transition and every part of the dnsrace state a global, with ONE difference: SPIN's weak
 * fairness (`pan -f`) is per process, and the specs' `fairness: {weak: [Planner, Enactor]}`
 * makes each Enactor instance one fairness unit.  So the Planner and each Enactor are a
 * proctype of their own, whose body is a `do` loop of d_steps.  A process's own program
 * counter is always its loop head between d_steps, so it adds nothing to the state:
 *   states, stored (-DSAFETY -DNOCLAIM)   = dnsrace states
 *   transitions (= stored+matched)       = dnsrace transitions + 1 (SPIN counts the root)
 * Every loop head carries an end label: the specs say `deadlock: ignore`, and a state where
 * nothing is enabled (every Enactor wedged on an emptied endpoint, the Planner done) is a
 * dnsrace deadlock, which liveness takes as repeating forever: SPIN's stutter extension of
 * finite runs (on by default in `pan -a`) does the same.
 *   newest, record[e], emptied[e]      as in the specs (`empty` is a Promela keyword)
 *   deleted                            the set of plans as a bit mask (bit g-1: plan g)
 *   pc[i], plan[i], ep[i]              Enactor i's program counter and locals
 *   holder                             FIX_LEASE only: the Enactor holding the lease, or -1
 * `g`, `e` and `used` are hidden loop scratch, not part of the state.
 *
 * LTL properties, one per temporal property of the specs (`pan -a -N NAME`, `-f` for the
 * weak fairness the specs declare):
 *   never_empty        [] !ANY_EMPTY.  The specs say `recoverable not ANY_EMPTY`; CTL's
 *                      AG EF is not LTL, but no step of these models ever clears `empty`,
 *                      so a state with an empty record reaches no state without one: every
 *                      such state is a trap and AG EF !ANY_EMPTY is exactly AG !ANY_EMPTY.
 *   regional_heals     [] <> (!emptied[0] && record[0] == newest)
 *   endpoints_settle   <> [] ALL_NEWEST
 *   catches_up         [] <> (record[0] == newest || ANY_EMPTY)   (dynamodb_dns_race.yaml only;
 *                      benchmarks/bench_liveness.py runs it at 3 Enactors, 5 plans, 3 endpoints)
 */
#ifndef ENACTORS
#define ENACTORS 3
#endif
#ifndef PLANS
#define PLANS 4
#endif
#ifndef ENDPOINTS
#define ENDPOINTS 2
#endif
#ifndef KEEP
#define KEEP 2
#endif

#define PICK    0
#define CHECK   1
#define WRITE   2
#define CLEANUP 3

byte newest = 1;
byte record[ENDPOINTS] = 1;
bool emptied[ENDPOINTS];      /* the spec's `empty` (a Promela keyword) */
byte deleted;                 /* bit g-1 set: plan g deleted */
byte pc[ENACTORS];            /* all start at PICK */
byte plan[ENACTORS] = 1;
byte ep[ENACTORS];
#ifdef FIX_LEASE
short holder = -1;
#endif
hidden byte g;
hidden byte e;
hidden byte used;   /* a bool; SPIN hides no bit variable */

#if ENDPOINTS == 2
#define ANY_EMPTY  (emptied[0] || emptied[1])
#define ALL_NEWEST (record[0] == newest && !emptied[0] && record[1] == newest && !emptied[1])
#else
#define ANY_EMPTY  (emptied[0] || emptied[1] || emptied[2])
#define ALL_NEWEST (record[0] == newest && !emptied[0] && record[1] == newest && !emptied[1] \
                    && record[2] == newest && !emptied[2])
#endif

#define NEXT_AFTER_WRITE(i) if :: ep[i] < ENDPOINTS -> pc[i] = WRITE :: else -> pc[i] = CLEANUP fi

#ifdef FIX_LEASE
#define PICK_GUARD(i)  && holder == -1
#define TAKE(i)        holder = i;
#define RELEASE        holder = -1;
#else
#define PICK_GUARD(i)
#define TAKE(i)
#define RELEASE
#endif

/* the clean-up skips plans a record still holds (FIX_CLEANUP) */
#ifdef FIX_CLEANUP
#define IN_USE_CHECK \
  used = false; e = 0; \
  do :: e < ENDPOINTS -> if :: record[e] == g -> used = true :: else -> skip fi; e++ \
     :: else -> break od;
#else
#define IN_USE_CHECK used = false;
#endif

#ifdef FIX_CAS
#define WRITES(i) \
  :: d_step { pc[i] == WRITE && !emptied[ep[i]] && plan[i] > record[ep[i]] -> \
                record[ep[i]] = plan[i]; ep[i]++; NEXT_AFTER_WRITE(i) } \
  :: d_step { pc[i] == WRITE && !emptied[ep[i]] && plan[i] == record[ep[i]] -> \
                ep[i]++; NEXT_AFTER_WRITE(i) } \
  :: d_step { pc[i] == WRITE && plan[i] < record[ep[i]] -> pc[i] = PICK }
#elif defined(RECHECK)
#define WRITES(i) \
  :: d_step { pc[i] == WRITE && !emptied[ep[i]] && (ep[i] > 0 || plan[i] > record[0]) -> \
                record[ep[i]] = plan[i]; ep[i]++; NEXT_AFTER_WRITE(i) } \
  :: d_step { pc[i] == WRITE && ep[i] == 0 && plan[i] <= record[0] -> pc[i] = PICK }
#else
#define WRITES(i) \
  :: d_step { pc[i] == WRITE && !emptied[ep[i]] -> \
                record[ep[i]] = plan[i]; ep[i]++; NEXT_AFTER_WRITE(i) }
#endif

#define ENACTOR(i) \
  do \
  :: d_step { pc[i] == PICK PICK_GUARD(i) -> TAKE(i) plan[i] = newest; pc[i] = CHECK } \
  :: d_step { pc[i] == CHECK && plan[i] > record[0] -> ep[i] = 0; pc[i] = WRITE } \
  :: d_step { pc[i] == CHECK && plan[i] <= record[0] -> RELEASE pc[i] = PICK } \
  WRITES(i) \
  :: d_step { pc[i] == CLEANUP -> \
                g = 1; \
                do \
                :: g <= PLANS -> \
                     IN_USE_CHECK \
                     if \
                     :: g + KEEP <= plan[i] && (deleted & (1 << (g - 1))) == 0 && !used -> \
                          deleted = deleted | (1 << (g - 1)); \
                          e = 0; \
                          do \
                          :: e < ENDPOINTS -> \
                               if :: record[e] == g -> emptied[e] = true :: else -> skip fi; \
                               e++ \
                          :: else -> break \
                          od \
                     :: else -> skip \
                     fi; \
                     g++ \
                :: else -> break \
                od; \
                used = false; \
                RELEASE \
                pc[i] = PICK } \
  od

active proctype Planner()
{
end:
  do
  :: d_step { newest < PLANS -> newest++ }
  od
}

active proctype Enactor0() { end: ENACTOR(0) }
#if ENACTORS >= 2
active proctype Enactor1() { end: ENACTOR(1) }
#endif
#if ENACTORS >= 3
active proctype Enactor2() { end: ENACTOR(2) }
#endif
#if ENACTORS >= 4
active proctype Enactor3() { end: ENACTOR(3) }
#endif

ltl never_empty      { [] !ANY_EMPTY }
ltl regional_heals   { [] <> (!emptied[0] && record[0] == newest) }
ltl endpoints_settle { <> [] ALL_NEWEST }
ltl catches_up       { [] <> (record[0] == newest || ANY_EMPTY) }
