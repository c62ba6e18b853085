/* Twin of benchmarks/models/dns_race.yaml (the DNS race of specs/dynamodb_dns_race.yaml at
 * 3 Enactors, 5 plans, 3 endpoints), for benchmarks/bench_array.py and bench_symmetry.py.
 * Build with `spin -a dns_race.pml` (ENACTORS=3, PLANS=5, ENDPOINTS=3, KEEP=2, the model's
 * defaults) or e.g. `spin -DPLANS=6 -DENDPOINTS=4 -a dns_race.pml` (ENACTORS 1..6, PLANS 1..8), then
 * `gcc -O2 -DNOREDUCE -DSAFETY -o pan pan.c && ./pan -w22`.
 *
 * Built like the twins in tests/models/promela/ (see tests/models/README.md): the whole
 * system is ONE active process whose body is a loop of d_steps, one per dnsrace transition
 * in the spec's order (Planner.produce; then per Enactor: pick, check.newer,
 * check.not_newer, write, cleanup), and every part of the dnsrace state is a global, so
 * SPIN's stored states are the dnsrace states:
 *   newest, record[e], emptied[e]      as in the spec (`empty` is a Promela keyword)
 *   deleted                            the set of plans as a bit mask (bit g-1: plan g)
 *   pc[i], plan[i], ep[i]              Enactor i's program counter and locals
 * The Planner's program counter never changes (its one step loops), so it is left out.
 * `g` and `e` are hidden loop counters, not part of the state.  The loop head carries an
 * end label: the spec says `deadlock: ignore`.  The spec's one invariant is expected to be
 * violated, so nothing is asserted: the twin is for counting states.
 *   states, stored                      = dnsrace states
 *   transitions (= stored+matched)      = dnsrace transitions + 1 (SPIN counts the root)
 */
#ifndef ENACTORS
#define ENACTORS 3
#endif
#ifndef PLANS
#define PLANS 5
#endif
#ifndef ENDPOINTS
#define ENDPOINTS 3
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
bool emptied[ENDPOINTS];    /* the spec's `empty` (a Promela keyword) */
byte deleted;                 /* bit g-1 set: plan g deleted */
byte pc[ENACTORS];            /* all start at PICK */
byte plan[ENACTORS] = 1;
byte ep[ENACTORS];
hidden byte g;
hidden byte e;

#define ENACTOR(i) \
  :: d_step { pc[i] == PICK -> plan[i] = newest; pc[i] = CHECK } \
  :: d_step { pc[i] == CHECK && plan[i] > record[0] -> ep[i] = 0; pc[i] = WRITE } \
  :: d_step { pc[i] == CHECK && plan[i] <= record[0] -> pc[i] = PICK } \
  :: d_step { pc[i] == WRITE && !emptied[ep[i]] -> \
                record[ep[i]] = plan[i]; ep[i]++; \
                if :: ep[i] < ENDPOINTS -> pc[i] = WRITE :: else -> pc[i] = CLEANUP fi } \
  :: d_step { pc[i] == CLEANUP -> \
                g = 1; \
                do \
                :: g <= PLANS -> \
                     if \
                     :: g + KEEP <= plan[i] && (deleted & (1 << (g - 1))) == 0 -> \
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
                pc[i] = PICK }

active proctype system()
{
end:
  do
  :: d_step { newest < PLANS -> newest++ }
  ENACTOR(0)
#if ENACTORS >= 2
  ENACTOR(1)
#endif
#if ENACTORS >= 3
  ENACTOR(2)
#endif
#if ENACTORS >= 4
  ENACTOR(3)
#endif
#if ENACTORS >= 5
  ENACTOR(4)
#endif
#if ENACTORS >= 6
  ENACTOR(5)
#endif
  od
}
