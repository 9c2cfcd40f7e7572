/* MESSAGE_ID= of the events an administrator looks up with
 * `journalctl MESSAGE_ID=...`; data/ringhttpd.catalog explains each. */
#ifndef RH_MSGID_H
#define RH_MSGID_H

#define RH_MSGID_READY "6735101954484e0ea79e5bf8491e2d27"
#define RH_MSGID_RELOADED "423b533c80c34ecbabda016b16d3f61b"
#define RH_MSGID_RELOAD_REFUSED "bef2eb8c2b6b4d2a8c2f2903baa57390"
#define RH_MSGID_STOPPED "c8a51d6507524b35ab8ad527ab6ac494"
#define RH_MSGID_URING_REFUSED "1e60a82db3294796916d41a3875b023a"

#endif
