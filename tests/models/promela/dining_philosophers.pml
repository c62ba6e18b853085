/* Twin of tests/models/dining_philosophers.yaml: N philosophers, left fork first.
 * Build with `spin -a dining_philosophers.pml` (N = 4) or `spin -DN=5 -a ...`
 * (N = 2..6 supported).
 *
 * The whole system is ONE active process whose body is a loop of d_steps:
 * every dnsrace transition is exactly one d_step, and the program counters
 * are a global array, so SPIN's stored states are the dnsrace states.  The
 * loop head carries an end label: the all-stuck state is a valid end state
 * here, as with `deadlock: ignore`.
 */
#ifndef N
#define N 4
#endif

#define THINK      0
#define TAKE_LEFT  1
#define TAKE_RIGHT 2
#define EAT        3
#define RELEASE    4

#define RIGHT(p) (((p) + 1) % N)

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
  :: d_step { pc[i] == THINK      -> pc[i] = TAKE_LEFT; assert(INV) } \
  :: d_step { pc[i] == TAKE_LEFT  && fork[i] == -1        -> fork[i] = i; pc[i] = TAKE_RIGHT; assert(INV) } \
  :: d_step { pc[i] == TAKE_RIGHT && fork[RIGHT(i)] == -1 -> fork[RIGHT(i)] = i; pc[i] = EAT; assert(INV) } \
  :: d_step { pc[i] == EAT        -> pc[i] = RELEASE; assert(INV) } \
  :: d_step { pc[i] == RELEASE    -> fork[i] = -1; fork[RIGHT(i)] = -1; pc[i] = THINK; assert(INV) }

active proctype system()
{
end:
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
