"""MotionCtrl's camera: the reference poses for each motion and the free local preview rendered from them."""
