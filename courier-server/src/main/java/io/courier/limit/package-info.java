/**
 * Admission limits that keep one client, one address or one tenant from taking what the others
 * need: connections refused at accept (total and per remote address), open WebSockets per audience,
 * and hook calls per audience; and the PROXY protocol header that names the client those per-address
 * limits (and the logs) mean when Courier runs behind a proxy. Called from the accepting thread and from any event loop; every
 * structure here is lock-free and forgets a key once nothing of it is held.
 */
package io.courier.limit;
