/* Twin of tests/models/peterson3.yaml: Peterson's filter lock, N processes.
 * Build with `spin -a peterson3.pml` (N = 3) or `spin -DN=4 -a peterson3.pml`
 * (N = 2..4 supported).
 *
 * The whole system is ONE active process whose body is a loop of d_steps:
 * every dnsrace transition is exactly one d_step, and program counters and
 * locals are global arrays, so SPIN's stored states are the dnsrace states.
 */
#ifndef N
#define N 3
#endif

#define NCS        0
#define SET_LEVEL  1
#define SET_VICTIM 2
#define WAIT       3
#define CS         4
#define LEAVE      5

byte level[N];       /* 0..N-1 */
byte victim[N];      /* dnsrace indexes it 1..N-1; element 0 is unused and stays 0 */
byte pc[N];          /* P.pc[i]: all start at NCS (0) */
byte lv[N] = 1;      /* P.lv[i]: the level being climbed, 1..N-1; all start at 1 */

/* "all(level[k] < l for k in 0..N-1 if k != i)", unrolled */
#define LOW(k, i, l) ((k) == (i) || (k) >= N || level[(k) % N] < (l))
#define OTHERS_BELOW(i, l) (LOW(0, i, l) && LOW(1, i, l) && LOW(2, i, l) && LOW(3, i, l))
#define MAY_PASS(i, l) (victim[l] != (i) || OTHERS_BELOW(i, l))

/* invariants expected to hold: mutual exclusion and filter_bound */
#define INCS(k)     ((k) < N && pc[(k) % N] == CS)
#define ATLEAST(k, l) ((k) < N && level[(k) % N] >= (l))
#define COUNT_CS    (INCS(0) + INCS(1) + INCS(2) + INCS(3))
#define COUNT_GE(l) (ATLEAST(0, l) + ATLEAST(1, l) + ATLEAST(2, l) + ATLEAST(3, l))
#define INV (COUNT_CS <= 1 && COUNT_GE(1) <= N && COUNT_GE(2) <= N - 1 && COUNT_GE(3) <= N - 2)

#define PROC(i) \
  :: d_step { pc[i] == NCS        -> pc[i] = SET_LEVEL; assert(INV) } \
  :: d_step { pc[i] == SET_LEVEL  -> level[i] = lv[i]; pc[i] = SET_VICTIM; assert(INV) } \
  :: d_step { pc[i] == SET_VICTIM -> victim[lv[i]] = i; pc[i] = WAIT; assert(INV) } \
  :: d_step { pc[i] == WAIT && lv[i] <  N - 1 && MAY_PASS(i, lv[i]) -> lv[i]++; pc[i] = SET_LEVEL; assert(INV) } \
  :: d_step { pc[i] == WAIT && lv[i] == N - 1 && MAY_PASS(i, lv[i]) -> pc[i] = CS; assert(INV) } \
  :: d_step { pc[i] == CS         -> pc[i] = LEAVE; assert(INV) } \
  :: d_step { pc[i] == LEAVE      -> level[i] = 0; lv[i] = 1; pc[i] = NCS; assert(INV) }

active proctype system()
{
end:
  do
  PROC(0)
  PROC(1)
#if N >= 3
  PROC(2)
#endif
#if N >= 4
  PROC(3)
#endif
  od
}
