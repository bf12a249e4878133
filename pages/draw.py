"""Draw a digit: the network reads your handwriting, live while it trains."""

import streamlit as st

from dashboard.canvas import draw_canvas
from dashboard.figures.draw import activations_figure, photo_steps_figure
from dashboard.figures.images import digit_figure
from dashboard.figures.robustness import answer_figure
from dashboard.markdown import plain
from dashboard.page import live_fragment, page_header, page_session
from dashboard.photo import photo_input
from dashboard.session import READY
from mnist_np.preprocess import to_mnist

session = page_session()
page_header("Draw a digit", session)
st.caption("Draw a digit with the mouse, or upload a photo of one. It is prepared the way "
           "MNIST's digits were: cropped to the ink, scaled to fit a 20×20 box, and placed "
           "in 28×28 by its centre of mass. The network then reads those 784 pixels, "
           "exactly as it reads MNIST.")

photo = st.radio("The digit", ["✏️ Draw it", "📷 Upload a photo"], horizontal=True,
                 key="draw_source", label_visibility="collapsed") != "✏️ Draw it"
image = problem = None
if photo:
    steps, problem = photo_input()
    if steps is not None:
        image = steps.field
        st.plotly_chart(photo_steps_figure(steps), key="draw_photo_steps")
        st.caption("Your photo made MNIST-like, step by step: (1) in grey, (2) turned to "
                   "light ink on dark if it was dark on light, (3) the paper cut away at the "
                   "threshold (Otsu's) that best separates it from the ink, then as a drawing: "
                   "(4) cropped to the ink, (5) scaled to fit 20×20, (6) placed in 28×28 by "
                   "its centre of mass. From step 3 on, drawn as every digit here: ink dark "
                   "on white.")

left, right = st.columns([1, 2], gap="large")
with left:
    if not photo:
        try:
            drawing = draw_canvas(key="draw_canvas")
            image = None if drawing is None else to_mnist(drawing)
        except ValueError as e:
            problem = str(e)
    if image is not None:
        st.plotly_chart(digit_figure(image, "What the network sees (28×28)", height=300),
                        key="draw_input")


def prediction(session):
    if problem:
        st.error(plain(problem))  # names the user's file
        return
    if image is None:
        st.info("📷 Upload a photo of one handwritten digit to see what the network makes of "
                "it." if photo else
                "✏️ Draw a digit on the black square to see what the network makes of it.")
        return
    net, _ = session.network_copy()
    fwd = net.forward(image.reshape(1, -1))
    output = fwd.output[0]
    digit = int(output.argmax())
    if session.state == READY and session.uploaded_file:
        st.caption(f"The network uploaded from {plain(session.uploaded_file)}, as it was "
                   "saved.")
    elif session.untrained:
        st.warning("This network has not been trained yet, so its answer is a guess: press "
                   "▶ Play in the sidebar and watch the answer change as it learns.")
    st.markdown(f"### The network reads: **{plain(session.data.classes[digit])}** "
                f"<small>({output[digit]:.0%})</small>", unsafe_allow_html=True)
    is_softmax = net.output_name == "softmax"
    st.plotly_chart(answer_figure(output, title="Probability of each digit (softmax)"
                                  if is_softmax else f"Output of each unit ({net.output_name})",
                                  classes=session.data.classes),
                    key="draw_output")
    st.caption("The last layer's outputs, one per digit; the highest is the answer."
               + ("" if is_softmax else " With this output layer they need not sum to 1."))
    hidden = [a[0] for a in fwd.activations[1:-1]]
    if hidden:
        st.plotly_chart(activations_figure(hidden, net.activation), key="draw_hidden")
        st.caption("Each square is one hidden unit, laid out row by row: how strongly it "
                   "responds to your drawing. These are the features the output layer weighs.")
    else:
        st.caption("This network has no hidden layer: the pixels go straight to the outputs.")


with right:
    live_fragment(session, prediction)()
