/* Twin of tests/models/ticket_lock.yaml: ticket lock, tickets modulo K.
 * Build with `spin -a ticket_lock.pml` (N = 3, K = 3) or e.g.
 * `spin -DN=4 -DK=5 -a ticket_lock.pml` (N = 2..5 supported).
 *
 * The whole system is ONE active process whose body is a loop of d_steps:
 * every dnsrace transition is exactly one d_step, and program counters and
 * locals are global arrays, so SPIN's stored states are the dnsrace states.
 *
 * The assertion in `cs` is modelled so that a failing step changes nothing:
 * dnsrace gives it no successor, SPIN (run with -c0, so it goes on after the
 * error) finds the unchanged state already stored.  Counts stay equal, and
 * SPIN's "errors" then counts the failing transitions.  With K < N, compile
 * with -DNOINV so that only that assertion is counted.
 */
#ifndef N
#define N 3
#endif
#ifndef K
#define K 3
#endif

#define NCS   0
#define TAKE  1
#define WAIT  2
#define CS    3
#define LEAVE 4

byte next_ticket;    /* 0..K-1 */
byte now_serving;    /* 0..K-1 */
byte pc[N];          /* P.pc[i]: all start at NCS (0) */
byte my[N];          /* P.my[i]: the ticket held, 0..K-1 */

#define IN_CS(k)   ((k) < N && (pc[(k) % N] == CS || pc[(k) % N] == LEAVE))
#define HOLDS(k)   ((k) < N && pc[(k) % N] >= WAIT)
#define N_IN_CS    (IN_CS(0) + IN_CS(1) + IN_CS(2) + IN_CS(3) + IN_CS(4))
#define N_HOLDING  (HOLDS(0) + HOLDS(1) + HOLDS(2) + HOLDS(3) + HOLDS(4))
#ifdef NOINV
#define CHECK skip
#else
/* mutual_exclusion and tickets_outstanding; (x + K) % K keeps C's % non-negative */
#define CHECK assert(N_IN_CS <= 1 && \
                     ((next_ticket + K - now_serving) % K) == (N_HOLDING % K))
#endif

#define PROC(i) \
  :: d_step { pc[i] == NCS   -> pc[i] = TAKE; CHECK } \
  :: d_step { pc[i] == TAKE  -> my[i] = next_ticket; next_ticket = (next_ticket + 1) % K; pc[i] = WAIT; CHECK } \
  :: d_step { pc[i] == WAIT && now_serving == my[i] -> pc[i] = CS; CHECK } \
  :: d_step { pc[i] == CS    -> \
                if \
                :: now_serving == my[i] -> pc[i] = LEAVE; CHECK \
                :: else -> assert(false)  /* dnsrace: assertion violated, no successor */ \
                fi } \
  :: d_step { pc[i] == LEAVE -> now_serving = (now_serving + 1) % K; my[i] = 0; pc[i] = NCS; CHECK }

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
#if N >= 5
  PROC(4)
#endif
  od
}
