/* native.h: the benchmarks' own string forms of a cell, both ways.
 *   NB101: the table row form (V, V*V adjacency chars, ops "-1:0:1:-2"; ops -1 input,
 *          0 conv3x3-bn-relu, 1 conv1x1-bn-relu, 2 maxpool3x3, -2 output);
 *   NB201: the arch string "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~0|...~1|...~2|";
 *   ENAS:  D-VAE's list form "[[op], [op, f0], [op, f0, f1], ...]" (op 0..5; f_j = skip from
 *          node j, node 0 being the input).
 * Parsers return 0, or -1 with the reason in why. They check the form, not validity (graph_check). */
#ifndef SVGE_NATIVE_H
#define SVGE_NATIVE_H
#include <stddef.h>
#include "graph.h"

int nb101_from_row(int nv, const char *adj, size_t adjlen, const char *ops, graph *g, char *why, size_t whylen);
int nb201_from_arch(const char *s, size_t len, graph *g, char *why, size_t whylen);
/* Writes the arch string of an 8-node NB201 graph (graph_check'ed) into out (>= 160 bytes). */
void nb201_to_arch(const graph *g, char *out, size_t outlen);
/* layers: 6 or 12. */
int enas_from_list(const char *s, size_t len, int layers, graph *g, char *why, size_t whylen);
/* Writes the list form of a valid ENAS graph into out (>= 8 * layers * layers bytes suffices). */
void enas_to_list(const graph *g, char *out, size_t outlen);
#endif
