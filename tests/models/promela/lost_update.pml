/* Twin of tests/models/lost_update.yaml: N workers, read then write, then done.
 * Build with `spin -a lost_update.pml` (N = 3) or `spin -DN=4 -a ...` (N = 2..5).
 *
 * The whole system is ONE active process whose body is a loop of d_steps:
 * every dnsrace transition is exactly one d_step, and program counters and
 * locals are global arrays, so SPIN's stored states are the dnsrace states.
 * A terminated worker has pc == DONE and no d_step enabled; its local `tmp`
 * stays in the state, as in dnsrace.  The `end` label on the loop head makes
 * a state where nothing is enabled a valid end state (here, only states where
 * every worker is done have nothing enabled).
 */
#ifndef N
#define N 3
#endif

#define READ  0
#define WRITE 1
#define DONE  2

byte counter;        /* 0..N */
byte pc[N];          /* Worker.pc[i]: all start at READ (0) */
byte tmp[N];         /* Worker.tmp[i]: 0..N */

#define FIN(k)   ((k) < N && pc[(k) % N] == DONE)
#define N_DONE   (FIN(0) + FIN(1) + FIN(2) + FIN(3) + FIN(4))
/* counter_bounded, asserted after every transition */
#define INV (counter <= N_DONE && counter <= N)

#define WORKER(i) \
  :: d_step { pc[i] == READ  -> tmp[i] = counter; pc[i] = WRITE; assert(INV) } \
  :: d_step { pc[i] == WRITE -> counter = tmp[i] + 1; pc[i] = DONE; assert(INV) }

active proctype system()
{
end:
  do
  WORKER(0)
  WORKER(1)
#if N >= 3
  WORKER(2)
#endif
#if N >= 4
  WORKER(3)
#endif
#if N >= 5
  WORKER(4)
#endif
  od
}
