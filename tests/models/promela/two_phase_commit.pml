/* Twin of tests/models/two_phase_commit.yaml: two-phase commit, R RMs.
 * Build with `spin -a two_phase_commit.pml` (R = 3) or e.g.
 * `spin -DR=4 -a two_phase_commit.pml` (R = 1..5 supported).
 *
 * The whole system is ONE active process whose body is a loop of d_steps:
 * every dnsrace transition (each action, once per binding of r) is exactly
 * one d_step, so SPIN's stored states are the dnsrace states.  A transition
 * that changes nothing (e.g. RMRcvCommitMsg(r) when r already committed) is
 * still one transition: SPIN counts it as "matched".
 * Sets of RMs are bit masks.
 */
#ifndef R
#define R 3
#endif

/* RMState */
#define WORKING   0
#define PREPARED  1
#define COMMITTED 2
#define ABORTED   3
/* TMState: UNDECIDED, COMMITTED, ABORTED */
#define UNDECIDED 0

#define ALL ((1 << R) - 1)
#define BIT(r) (1 << (r))

byte rm_state[R];    /* all WORKING (0) */
byte tm_state;       /* UNDECIDED */
byte tm_prepared;    /* set of 0..R-1 */
byte msg_prepared;   /* set of 0..R-1 */
bool msg_commit;
bool msg_abort;

/* invariants expected to hold, asserted after every transition */
#define IS(r, s) ((r) < R && rm_state[(r) % R] == (s))
#define ANY(s) (IS(0, s) || IS(1, s) || IS(2, s) || IS(3, s) || IS(4, s))
#define PREP_OK(r) (!IS(r, PREPARED) || (msg_prepared & BIT(r)))
#define INV (!(ANY(ABORTED) && ANY(COMMITTED)) && \
             (!msg_commit || tm_state == COMMITTED) && \
             (tm_prepared & ~msg_prepared) == 0 && \
             PREP_OK(0) && PREP_OK(1) && PREP_OK(2) && PREP_OK(3) && PREP_OK(4))

#define TM_RCV_PREPARED(r) \
  :: d_step { tm_state == UNDECIDED && (msg_prepared & BIT(r)) -> tm_prepared = tm_prepared | BIT(r); assert(INV) }
#define RM_PREPARE(r) \
  :: d_step { rm_state[r] == WORKING -> rm_state[r] = PREPARED; msg_prepared = msg_prepared | BIT(r); assert(INV) }
#define RM_CHOOSE_TO_ABORT(r) \
  :: d_step { rm_state[r] == WORKING -> rm_state[r] = ABORTED; assert(INV) }
#define RM_RCV_COMMIT(r) \
  :: d_step { msg_commit -> rm_state[r] = COMMITTED; assert(INV) }
#define RM_RCV_ABORT(r) \
  :: d_step { msg_abort -> rm_state[r] = ABORTED; assert(INV) }

/* one alternative per binding r = 0..R-1 */
#if R == 1
#define EACH(A) A(0)
#elif R == 2
#define EACH(A) A(0) A(1)
#elif R == 3
#define EACH(A) A(0) A(1) A(2)
#elif R == 4
#define EACH(A) A(0) A(1) A(2) A(3)
#else
#define EACH(A) A(0) A(1) A(2) A(3) A(4)
#endif

active proctype system()
{
  do
  EACH(TM_RCV_PREPARED)
  :: d_step { tm_state == UNDECIDED && tm_prepared == ALL -> tm_state = COMMITTED; msg_commit = true; assert(INV) }
  :: d_step { tm_state == UNDECIDED -> tm_state = ABORTED; msg_abort = true; assert(INV) }
  EACH(RM_PREPARE)
  EACH(RM_CHOOSE_TO_ABORT)
  EACH(RM_RCV_COMMIT)
  EACH(RM_RCV_ABORT)
  od
}
