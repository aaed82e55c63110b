/*
 * Template of the submitter's header, as the official api/ folder ships
 * one. tinygen replaces it with the port's generated header; if this file
 * were used instead, the build would stop here.
 */
#error "tinygen must replace api/submitter_implemented.h with the generated one"
