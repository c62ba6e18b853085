/* Twin of tests/models/peterson2.yaml: Peterson's algorithm, two processes.
 *
 * The whole system is ONE active process whose body is a loop of d_steps:
 * every dnsrace transition is exactly one d_step, and the program counters
 * are global bytes, so a SPIN state is (globals, this process's loop head)
 * and SPIN's stored states are the dnsrace states.
 *
 * dnsrace has two initial states (turn: any); SPIN has one.  The twin adds
 * one pre-initial state (started == false) with one transition into each
 * dnsrace initial state, so:
 *   SPIN states stored = dnsrace states + 1
 *   SPIN transitions   = dnsrace transitions + 2 (initial edges) + 1 (SPIN counts the root)
 *   SPIN BFS depth     = dnsrace depth + 1
 */
#define NCS      0
#define SET_FLAG 1
#define SET_TURN 2
#define WAIT     3
#define CS       4
#define LEAVE    5

bool flag[2];
bit  turn;
byte pc[2];          /* P.pc[i]; all start at NCS (0) */
bool started;        /* false only in the pre-initial state */

/* The invariants expected to hold, asserted after every transition (the
 * initial states satisfy them trivially).  An assert changes no state. */
#define INV (!(pc[0] == CS && pc[1] == CS) && \
             flag[0] == (pc[0] >= SET_TURN) && flag[1] == (pc[1] >= SET_TURN))

#define PROC(i) \
  :: d_step { started && pc[i] == NCS      -> pc[i] = SET_FLAG; assert(INV) } \
  :: d_step { started && pc[i] == SET_FLAG -> flag[i] = true; pc[i] = SET_TURN; assert(INV) } \
  :: d_step { started && pc[i] == SET_TURN -> turn = 1 - i; pc[i] = WAIT; assert(INV) } \
  :: d_step { started && pc[i] == WAIT && (flag[1 - i] == false || turn == i) -> pc[i] = CS; assert(INV) } \
  :: d_step { started && pc[i] == CS       -> pc[i] = LEAVE; assert(INV) } \
  :: d_step { started && pc[i] == LEAVE    -> flag[i] = false; pc[i] = NCS; assert(INV) }


active proctype system()
{
end:
  do
  :: d_step { !started -> turn = 0; started = true }
  :: d_step { !started -> turn = 1; started = true }
  PROC(0)
  PROC(1)
  od
}
