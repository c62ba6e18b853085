/* Twin of tests/models/dining_philosophers_ordered.yaml: the last philosopher
 * takes its right fork first.
 * Build with `spin -a dining_philosophers_ordered.pml` (N = 4) or `spin -DN=5 -a ...`
 * (N = 2..6 supported).
 *
 * The whole system is ONE active process whose body is a loop of d_steps:
 * every dnsrace transition is exactly one d_step, and the program counters
 * are a global array, so SPIN's stored states are the dnsrace states.  The
 * loop head has NO end label: as with `deadlock: error`, SPIN reports any
 * state without an enabled d_step as an invalid end state (there is none).
 */
#ifndef N
#define N 4
#endif

#define THINK      0
#define TAKE_FIRST  1
#define TAKE_SECOND 2
#define EAT        3
#define RELEASE    4

#define RIGHT(p) (((p) + 1) % N)
#define FIRST(p)  ((p) == N - 1 -> RIGHT(p) : (p))
#define SECOND(p) ((p) == N - 1 -> (p) : RIGHT(p))

short fork[N] = -1;  /* holder of each fork, -1: on the table */
byte  pc[N];         /* Phil.pc[i]: all start at THINK (0) */

/* invariants expected to hold, for one philosopher p, asserted after every transition */
#define NEIGHBOURS_OK(p) ((p) >= N || !(pc[(p) % N] == EAT && pc[RIGHT((p) % N)] == EAT))
#define EATER_OK(p)      ((p) >= N || !(pc[(p) % N] == EAT || pc[(p) % N] == RELEASE) || \
                          (fork[(p) % N] == (p) && fork[RIGHT((p) % N)] == (p)))
#define FORK_OK(f)       ((f) >= N || fork[(f) % N] == -1 || fork[(f) % N] == (f) || \
                          fork[(f) % N] == ((f) + N - 1) % N)
#define OK(p) (NEIGHBOURS_OK(p) && EATER_OK(p) && FORK_OK(p))
#define INV (OK(0) && OK(1) && OK(2) && OK(3) && OK(4) && OK(5))

#define PHIL(i) \
  :: d_step { pc[i] == THINK       -> pc[i] = TAKE_FIRST; assert(INV) } \
  :: d_step { pc[i] == TAKE_FIRST  && fork[FIRST(i)] == -1  -> fork[FIRST(i)] = i; pc[i] = TAKE_SECOND; assert(INV) } \
  :: d_step { pc[i] == TAKE_SECOND && fork[SECOND(i)] == -1 -> fork[SECOND(i)] = i; pc[i] = EAT; assert(INV) } \
  :: d_step { pc[i] == EAT         -> pc[i] = RELEASE; assert(INV) } \
  :: d_step { pc[i] == RELEASE     -> fork[i] = -1; fork[RIGHT(i)] = -1; pc[i] = THINK; assert(INV) }

active proctype system()
{
  do
  PHIL(0)
  PHIL(1)
#if N >= 3
  PHIL(2)
#endif
#if N >= 4
  PHIL(3)
#endif
#if N >= 5
  PHIL(4)
#endif
#if N >= 6
  PHIL(5)
#endif
  od
}
