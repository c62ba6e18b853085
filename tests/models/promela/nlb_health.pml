/* Liveness twin of specs/nlb_health_flapping.yaml (the default) and, with -DCAP=1 (any
 * CAP >= 0), of specs/nlb_health_capped.yaml.  Constant: -DTARGETS=2..4, default 4 (the
 * specs' own).
 *
 * Built like dns_designs.pml: one atomic d_step per dnsrace transition, every part of the
 * dnsrace state a global, and one proctype per fairness unit of the specs' `fairness:
 * {weak: [NetworkManager, HealthChecker]}`, because `pan -f` is weak fairness per process.
 * Each body is a `do` loop of d_steps, so a process's own program counter adds nothing:
 *   states, stored (-DSAFETY -DNOCLAIM)   = dnsrace states
 *   transitions (= stored+matched)       = dnsrace transitions + 1 (SPIN counts the root)
 * The spec's `propagate` step has a parameter t: one d_step per binding.
 *   lagging[t], in_service[t], checking    as in the specs
 *
 * LTL properties, one per temporal property of the specs but `recoverable` (CTL's AG EF,
 * which LTL cannot state):
 *   membership_settles      <> [] FULL
 *   full_capacity_returns   [] <> FULL
 */
#ifndef TARGETS
#define TARGETS 4
#endif

bool lagging[TARGETS] = true;
bool in_service[TARGETS] = true;
byte checking;

#define OUT(k)   ((k) < TARGETS && !in_service[(k) % TARGETS])
#define NOUT     (OUT(0) + OUT(1) + OUT(2) + OUT(3))
#define FULL     (NOUT == 0)

#ifdef CAP
#define MAY_REMOVE && in_service[checking] && NOUT < CAP
#else
#define MAY_REMOVE
#endif

#define PROPAGATE(t) :: d_step { lagging[t] -> lagging[t] = false }

active proctype NetworkManager()
{
end:
  do
  PROPAGATE(0)
  PROPAGATE(1)
#if TARGETS >= 3
  PROPAGATE(2)
#endif
#if TARGETS >= 4
  PROPAGATE(3)
#endif
  od
}

active proctype HealthChecker()
{
end:
  do
  :: d_step { true -> \
                if \
                :: lagging[checking] -> \
                     if \
                     :: true MAY_REMOVE -> in_service[checking] = false \
                     :: else -> skip \
                     fi \
                :: !lagging[checking] && !in_service[checking] -> \
                     in_service[checking] = true; lagging[checking] = true \
                :: else -> skip \
                fi; \
                checking = (checking + 1) % TARGETS }
  od
}

ltl membership_settles    { <> [] FULL }
ltl full_capacity_returns { [] <> FULL }
