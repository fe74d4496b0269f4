package dev.hardway.credentials;

/**
 * What the agent answered on its control socket.
 *
 * @param ok whether the command succeeded
 * @param text what it printed: the result, or what was wrong
 */
public record ControlReply(boolean ok, String text) {}
