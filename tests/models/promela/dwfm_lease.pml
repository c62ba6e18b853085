/* Liveness twin of specs/dwfm_lease_collapse.yaml (the default) and, with -DADMIT=2 (any
 * ADMIT >= 1), of specs/dwfm_lease_admission.yaml.  Constants: -DDROPLETS=2..4 -DWORK=...
 * -DDEADLINE=..., defaults 4, 2, 3 (the specs' own).
 *
 * Built like dns_designs.pml: one atomic d_step per dnsrace transition, every part of the
 * dnsrace state a global, and one proctype per fairness unit of the specs' `fairness:
 * {weak: [Droplet, DWFM, tick]}` (each Droplet instance, the DWFM process, the `tick`
 * action), because `pan -f` is weak fairness per process.  Each body is a `do` loop of
 * d_steps, so a process's own program counter adds nothing to the state:
 *   states, stored (-DSAFETY -DNOCLAIM)   = dnsrace states
 *   transitions (= stored+matched)       = dnsrace transitions + 1 (SPIN counts the root)
 * The spec's `work` step has a parameter d; its binding is enabled only for the droplet
 * `serving` names, so the DWFM proctype has one d_step per d with SERVES(d) in its guard:
 * waiting[d], and no droplet waiting strictly between `turn` and d (cyclically).
 *   held[d], waiting[d], progress[d], age[d], budget, turn    as in the specs
 * The loop heads carry end labels (the specs say `deadlock: ignore`; `tick` is never
 * disabled for long, so no state is stuck).
 *
 * LTL properties, one per temporal property of the specs but `recoverable` (CTL's AG EF,
 * which LTL cannot state):
 *   fleet_recovers     <> [] ALL_HELD
 *   attempt_succeeds   [] (waiting[0] -> <> held[0])      (the spec's `waiting[0] leads_to held[0]`)
 */
#ifndef DROPLETS
#define DROPLETS 4
#endif
#ifndef WORK
#define WORK 2
#endif
#ifndef DEADLINE
#define DEADLINE 3
#endif

bool held[DROPLETS];
bool waiting[DROPLETS];
byte progress[DROPLETS];
byte age[DROPLETS];
byte budget = 1;
byte turn;
hidden byte d;

#define WQ(k)      ((k) < DROPLETS && waiting[(k) % DROPLETS])
#define QLEN       (WQ(0) + WQ(1) + WQ(2) + WQ(3))
#define AT(k)      waiting[(turn + (k)) % DROPLETS]
/* d is the first waiting droplet at or after turn, cyclically */
#define SERVES(x) (waiting[x] && \
   ((x) == turn || \
    ((x) == (turn + 1) % DROPLETS && !AT(0)) || \
    ((x) == (turn + 2) % DROPLETS && !AT(0) && !AT(1)) || \
    ((x) == (turn + 3) % DROPLETS && !AT(0) && !AT(1) && !AT(2))))
#define HELD(k)    ((k) >= DROPLETS || held[k])
#define ALL_HELD   (HELD(0) && HELD(1) && HELD(2) && HELD(3))

#ifdef ADMIT
#define ADMITTED   && QLEN < ADMIT
#else
#define ADMITTED
#endif

#define DROPLET(i) \
  do \
  :: d_step { !held[i] && !waiting[i] ADMITTED -> waiting[i] = true } \
  od

#define WORK_ON(x) \
  :: d_step { budget > 0 && SERVES(x) -> \
                budget = 0; \
                turn = ((x) + 1) % DROPLETS; \
                if \
                :: progress[x] == WORK - 1 -> \
                     held[x] = true; waiting[x] = false; progress[x] = 0; age[x] = 0 \
                :: else -> progress[x]++ \
                fi }

active proctype Droplet0() { end: DROPLET(0) }
active proctype Droplet1() { end: DROPLET(1) }
#if DROPLETS >= 3
active proctype Droplet2() { end: DROPLET(2) }
#endif
#if DROPLETS >= 4
active proctype Droplet3() { end: DROPLET(3) }
#endif

active proctype DWFM()
{
end:
  do
  WORK_ON(0)
  WORK_ON(1)
#if DROPLETS >= 3
  WORK_ON(2)
#endif
#if DROPLETS >= 4
  WORK_ON(3)
#endif
  od
}

active proctype Tick()
{
end:
  do
  :: d_step { budget == 0 || QLEN == 0 -> \
                budget = 1; \
                d = 0; \
                do \
                :: d < DROPLETS -> \
                     if \
                     :: waiting[d] && age[d] == DEADLINE - 1 -> \
                          waiting[d] = false; progress[d] = 0; age[d] = 0 \
                     :: waiting[d] && age[d] != DEADLINE - 1 -> age[d]++ \
                     :: else -> skip \
                     fi; \
                     d++ \
                :: else -> break \
                od }
  od
}

ltl fleet_recovers   { <> [] ALL_HELD }
ltl attempt_succeeds { [] (waiting[0] -> <> held[0]) }
