/* Twin of tests/models/bakery.yaml: Lamport's bakery, tickets bounded by MAX.
 * Build with `spin -a bakery.pml` (N = 3, MAX = 3) or e.g.
 * `spin -DN=2 -DMAX=4 -a bakery.pml` (N = 2..4 supported).
 *
 * The whole system is ONE active process whose body is a loop of d_steps:
 * every dnsrace transition (each `either` alternative included) is exactly one
 * d_step, and program counters and locals are global arrays, so SPIN's stored
 * states are the dnsrace states.
 */
#ifndef N
#define N 3
#endif
#ifndef MAX
#define MAX 3
#endif

#define NCS           0
#define DOORWAY       1
#define SCAN          2
#define WAIT_CHOOSING 3
#define WAIT_NUMBER   4
#define CS            5
#define LEAVE         6

bool choosing[N];
byte number[N];      /* 0..MAX */
byte pc[N];          /* P.pc[i]: all start at NCS (0) */
byte j[N];           /* P.j[i]: 0..N */
byte mx[N];          /* P.mx[i]: 0..MAX */

#define BEFORE(a, b) (number[a] < number[b] || (number[a] == number[b] && (a) < (b)))

/* invariants expected to hold: mutual_exclusion, number_iff_ticketed, choosing_iff_scanning */
#define IN_CS(k) ((k) < N && (pc[(k) % N] == CS || pc[(k) % N] == LEAVE))
#define OK(k)    ((k) >= N || ((number[(k) % N] > 0) == (pc[(k) % N] >= WAIT_CHOOSING) && \
                               choosing[(k) % N] == (pc[(k) % N] == SCAN)))
#define INV ((IN_CS(0) + IN_CS(1) + IN_CS(2) + IN_CS(3)) <= 1 && OK(0) && OK(1) && OK(2) && OK(3))

#define PROC(i) \
  :: d_step { pc[i] == NCS     -> pc[i] = DOORWAY; assert(INV) } \
  :: d_step { pc[i] == DOORWAY -> choosing[i] = true; pc[i] = SCAN; assert(INV) } \
  /* scan.read */ \
  :: d_step { pc[i] == SCAN && j[i] < N -> \
                if :: number[j[i]] > mx[i] -> mx[i] = number[j[i]] :: else -> skip fi; \
                j[i]++; assert(INV) } \
  /* scan.take */ \
  :: d_step { pc[i] == SCAN && j[i] == N && mx[i] < MAX -> \
                number[i] = mx[i] + 1; choosing[i] = false; j[i] = 0; mx[i] = 0; \
                pc[i] = WAIT_CHOOSING; assert(INV) } \
  /* scan.overflow */ \
  :: d_step { pc[i] == SCAN && j[i] == N && mx[i] == MAX -> j[i] = 0; mx[i] = 0; assert(INV) } \
  :: d_step { pc[i] == WAIT_CHOOSING && !choosing[j[i]] -> pc[i] = WAIT_NUMBER; assert(INV) } \
  :: d_step { pc[i] == WAIT_NUMBER && (number[j[i]] == 0 || !BEFORE(j[i], i)) -> \
                j[i]++; \
                if :: j[i] < N -> pc[i] = WAIT_CHOOSING :: else -> pc[i] = CS fi; \
                assert(INV) } \
  :: d_step { pc[i] == CS    -> j[i] = 0; pc[i] = LEAVE; assert(INV) } \
  :: d_step { pc[i] == LEAVE -> number[i] = 0; pc[i] = NCS; assert(INV) }

active proctype system()
{
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
