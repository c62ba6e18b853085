/* Twin of tests/models/alternating_bit.yaml: alternating bit protocol over
 * two lossy FIFO channels.  Build with `spin -a alternating_bit.pml`
 * (M = 4, CAP = 2) or e.g. `spin -DM=6 -DCAP=3 -a ...` (CAP = 1..3).
 *
 * The whole system is ONE active process whose body is a loop of d_steps:
 * every dnsrace transition (each alternative, each action) is exactly one
 * d_step.  Both processes have a single step, so their program counters are
 * constant and not modelled.  A sequence is an array plus a length; slots past
 * the length are kept at 0, so equal sequences are equal SPIN states.
 *
 * The assertion in `deliver` is modelled so that a failing step changes
 * nothing: dnsrace gives it no successor, SPIN (run with -c0, so it goes on
 * after the error) finds the unchanged state already stored; counts stay equal
 * and SPIN's "errors" counts the failing transitions.
 */
#ifndef M
#define M 4
#endif
#ifndef CAP
#define CAP 2
#endif

byte data[CAP];      /* data[0] is the head */
byte data_len;
byte ack[CAP];
byte ack_len;
byte msg;            /* Sender.msg[0] */
byte wanted;         /* Receiver.wanted[0] */

/* q = tail(q): shift left, clear the freed slot */
#if CAP == 1
#define TAIL(q, n) q[0] = 0; n--
#elif CAP == 2
#define TAIL(q, n) q[0] = q[1]; q[1] = 0; n--
#else
#define TAIL(q, n) q[0] = q[1]; q[1] = q[2]; q[2] = 0; n--
#endif
#define APPEND(q, n, x) q[n] = x; n++

/* data_is_recent and receiver_in_step, asserted after every transition */
#define RECENT(i) ((i) >= data_len || data[(i) % CAP] == msg || data[(i) % CAP] == (msg + M - 1) % M)
#define INV (RECENT(0) && RECENT(1) && RECENT(2) && (wanted == msg || wanted == (msg + 1) % M))

active proctype system()
{
  do
  /* Sender[0].run.transmit */
  :: d_step { data_len < CAP -> APPEND(data, data_len, msg); assert(INV) }
  /* Sender[0].run.receive_ack */
  :: d_step { ack_len > 0 ->
                if :: ack[0] == msg % 2 -> msg = (msg + 1) % M :: else -> skip fi;
                TAIL(ack, ack_len); assert(INV) }
  /* Receiver[0].run.deliver */
  :: d_step { data_len > 0 ->
                if
                :: data[0] % 2 == wanted % 2 && data[0] != wanted ->
                     assert(false)      /* dnsrace: assertion violated, no successor */
                :: else ->
                     if :: data[0] % 2 == wanted % 2 -> wanted = (wanted + 1) % M :: else -> skip fi;
                     TAIL(data, data_len); assert(INV)
                fi }
  /* Receiver[0].run.send_ack */
  :: d_step { ack_len < CAP -> APPEND(ack, ack_len, (wanted + 1) % 2); assert(INV) }
  /* lose_data, lose_ack */
  :: d_step { data_len > 0 -> TAIL(data, data_len); assert(INV) }
  :: d_step { ack_len > 0 -> TAIL(ack, ack_len); assert(INV) }
  od
}
